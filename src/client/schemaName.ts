/**
 * A schema's name: the last segment of its `$id` before the version.
 */
export function shortName(schemaId: string): string {
  const segments = schemaId.split('/').filter(segment => segment !== '');
  while (segments.length > 1 && /^v\d+$/.test(segments[segments.length - 1])) {
    segments.pop();
  }
  return segments[segments.length - 1] ?? schemaId;
}
