/**
 * The one error body of every 4xx/5xx SLO-Scout answers over HTTP: `{ error: { code, message } }`. It is
 * a wire contract shared by the server and the telemetry receivers, which the server mounts but which
 * shape their own refusals.
 */
export interface ErrorBody {
  error: { code: string; message: string };
}

export const errorBody = (code: string, message: string): ErrorBody => ({ error: { code, message } });
