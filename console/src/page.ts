// What every page gets and gives.
import { ApiError, Unreachable, get } from "./api";
import { note } from "./dom";

export interface PageContext {
  /** The route's parts after the page name (#/ip/1.2.3.4 -> ["1.2.3.4"]). */
  params: string[];
  /** Aborted when the operator leaves the page or it re-renders. */
  signal: AbortSignal;
}

export interface Page {
  render(ctx: PageContext): Promise<HTMLElement>;
  /** Re-render every this many seconds (0: never; live pages stream). */
  refreshSeconds?: number;
}

/**
 * A panel's data that may be missing for a reason the operator should
 * read (no Elasticsearch, an API without that view): the answer, or a
 * note that says why. Unreachable and token errors go up to the shell.
 */
export async function optional<T>(path: string, signal: AbortSignal, what: string): Promise<T | HTMLElement> {
  try {
    return await get<T>(path, signal);
  } catch (e) {
    if (e instanceof Unreachable || (e instanceof ApiError && e.status === 401)) throw e;
    if (e instanceof ApiError) return note(`${what}: ${e.message}`, "error");
    throw e;
  }
}
