/**
 * The answer to a batch (`POST events`, or a message on the events socket):
 * what it must say for its events to count as recorded.
 */
export namespace BatchReply {
  /**
   * The reply to a batch: each event sent is accepted, a duplicate (recorded
   * before, by its id) or rejected (with its index in the batch).
   */
  export interface IBatchReply {
    accepted: number;
    duplicates: number;
    rejected: { index: number; message: string }[];
  }

  /**
   * Whether a batch reply accounts for each of the `count` events sent, once:
   * a reply that does not (a proxy's page, a server that does not speak this
   * API) says nothing was recorded.
   */
  export function accountsFor(
    reply: unknown,
    count: number
  ): reply is IBatchReply {
    if (typeof reply !== 'object' || reply === null) {
      return false;
    }
    const { accepted, duplicates, rejected } = reply as IBatchReply;
    if (
      !Number.isInteger(accepted) ||
      !Number.isInteger(duplicates) ||
      accepted < 0 ||
      duplicates < 0 ||
      !Array.isArray(rejected)
    ) {
      return false;
    }
    const indices = new Set<number>();
    for (const entry of rejected) {
      const index = entry?.index;
      if (!Number.isInteger(index) || index < 0 || index >= count) {
        return false;
      }
      indices.add(index);
    }
    return (
      indices.size === rejected.length &&
      accepted + duplicates + rejected.length === count
    );
  }
}
