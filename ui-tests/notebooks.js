/**
 * The notebooks the browser tests and the benchmark write.
 */

/**
 * A notebook (nbformat 4.5) of these code cells, with ids `<idPrefix>-0`,
 * `<idPrefix>-1`, ..., and a kernel named, so that no dialog asks for one.
 *
 * @param {string[]} sources
 * @param {string} [idPrefix]
 * @returns {Record<string, unknown>}
 */
function codeNotebook(sources, idPrefix = 'cell') {
  return {
    cells: sources.map((source, i) => ({
      cell_type: 'code',
      execution_count: null,
      id: `${idPrefix}-${i}`,
      metadata: {},
      outputs: [],
      source
    })),
    metadata: {
      kernelspec: {
        display_name: 'Python 3',
        language: 'python',
        name: 'python3'
      }
    },
    nbformat: 4,
    nbformat_minor: 5
  };
}

module.exports = { codeNotebook };
