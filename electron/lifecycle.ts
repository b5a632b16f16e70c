/**
 * Start-up and shut-down steps that are easy to get subtly wrong, kept apart from
 * Electron so they are tested: auto-start where one failure must not stop the
 * others, and a quit that waits for tunnels but never forever.
 */

export interface StartOutcome {
  id: string;
  error: unknown;
}

/** Starts every id at once; resolves with the failures, after all have settled. */
export async function startEach(ids: readonly string[], start: (id: string) => Promise<unknown>): Promise<StartOutcome[]> {
  const results = await Promise.allSettled(ids.map((id) => start(id)));
  return results.flatMap((r, i) => (r.status === 'rejected' ? [{ id: ids[i], error: r.reason }] : []));
}

/**
 * Waits for `work` at most `ms`. Quitting must not hang on a tunnel whose client
 * will not let go; the OS frees the ports when the process exits anyway.
 * Resolves true when the work finished in time (or failed in time: a failure to
 * stop cleanly is no reason to refuse to quit).
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
