// The console's only way out: the public REST API on the same origin,
// with the bearer token the operator typed (kept in this browser only).

const tokenKey = "logmon.api-token";

export function token(): string {
  return localStorage.getItem(tokenKey) ?? "";
}

export function setToken(t: string): void {
  if (t) localStorage.setItem(tokenKey, t);
  else localStorage.removeItem(tokenKey);
}

/** The API answered with an error (a gRPC status mapped to HTTP). */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: number, message: string) {
    super(message);
  }
}

/** The API did not answer at all. */
export class Unreachable extends Error {}

/** How the last call went; the shell shows it. */
export type Connection = "ok" | "unreachable" | "unauthenticated";

type Listener = (c: Connection, detail: string) => void;
const listeners: Listener[] = [];

export function onConnection(l: Listener): void {
  listeners.push(l);
}

function report(c: Connection, detail = ""): void {
  for (const l of listeners) l(c, detail);
}

function headers(): HeadersInit {
  const t = token();
  return t ? { Authorization: "Bearer " + t } : {};
}

async function call(path: string, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { headers: headers(), signal, cache: "no-store" });
  } catch (e) {
    if (signal?.aborted) throw e;
    report("unreachable", String(e));
    throw new Unreachable("the API does not answer: " + String(e));
  }
  if (res.status === 401) {
    report("unauthenticated");
    throw new ApiError(401, 16, "the API requires a token");
  }
  if (!res.ok) {
    const text = await res.text();
    let body: { code?: number; message?: string } | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      // A proxy's page, not the API: as good as no answer.
      report("unreachable", res.status + " " + res.statusText);
      throw new Unreachable(`the API does not answer (${res.status} ${res.statusText})`);
    }
    report("ok");
    throw new ApiError(res.status, body?.code ?? 0, body?.message ?? res.statusText);
  }
  report("ok");
  return res;
}

/** GET path and decode its JSON answer. */
export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await call(path, signal);
  return (await res.json()) as T;
}

/**
 * Follows a server stream (grpc-gateway's newline-delimited JSON, one
 * {"result": ...} per message) until it ends, fails or signal aborts.
 */
export async function stream<T>(path: string, onItem: (item: T) => void, signal: AbortSignal): Promise<void> {
  const res = await call(path, signal);
  if (!res.body) throw new Unreachable("the stream has no body");
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as { result?: T; error?: { code: number; message: string } };
      if (msg.error) throw new ApiError(500, msg.error.code, msg.error.message);
      if (msg.result) onItem(msg.result);
    }
  }
}

/**
 * Keeps a stream open: reconnects after 1, 2, 4 … 10 s when it ends or
 * fails, until signal aborts. path() gives the URL of each attempt (the
 * alert stream resumes at its cursor). live(true/false) says whether the
 * stream is connected.
 */
export async function follow<T>(path: () => string, onItem: (item: T) => void, live: (on: boolean) => void, signal: AbortSignal): Promise<void> {
  let wait = 1000;
  while (!signal.aborted) {
    try {
      await stream<T>(path(), (x) => {
        live(true);
        wait = 1000;
        onItem(x);
      }, signal);
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError && e.status === 401) return;
    }
    live(false);
    await sleep(wait, signal);
    wait = Math.min(wait * 2, 10000);
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

export function q(params: Record<string, string | number | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? "?" + s : "";
}
