import type { AppError } from "../bindings/AppError";
import type { ErrorCode } from "../bindings/ErrorCode";

/**
 * Error thrown by every `Backend` method. It carries the `AppError` that
 * crossed IPC (or one synthesised from whatever the rejection was), so the
 * UI can render code + message + hint.
 */
export class BackendError extends Error {
  readonly appError: AppError;

  constructor(appError: AppError) {
    super(appError.message);
    this.name = "BackendError";
    this.appError = appError;
  }

  get code(): ErrorCode {
    return this.appError.code;
  }

  get hint(): string | null {
    return this.appError.hint;
  }

  get details(): unknown | null {
    return this.appError.details;
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null;
}

/** True when `x` has the wire shape of an `AppError` (code and message strings). */
export function isAppError(x: unknown): x is AppError {
  return (
    isRecord(x) &&
    typeof x.code === "string" &&
    x.code.length > 0 &&
    typeof x.message === "string"
  );
}

function stringify(x: unknown): string {
  if (x instanceof Error) return x.message || x.name;
  if (typeof x === "string") return x;
  try {
    return String(x);
  } catch {
    return "Unknown error";
  }
}

/**
 * Turn any rejection value into an `AppError`.
 *
 * - an `AppError`-shaped object is kept (missing `hint`/`details` become null);
 * - a `BackendError` yields its `AppError`;
 * - anything else (a string, an `Error`, `undefined`, ...) becomes
 *   `{ code: "internal", message: String(x), hint: null, details: null }`.
 */
export function toAppError(x: unknown): AppError {
  if (x instanceof BackendError) return x.appError;
  if (isAppError(x)) {
    return {
      code: x.code,
      message: x.message,
      hint: typeof x.hint === "string" ? x.hint : null,
      details: x.details === undefined ? null : x.details,
    };
  }
  return { code: "internal", message: stringify(x), hint: null, details: null };
}

/** Normalise any rejection value into a `BackendError`. */
export function toBackendError(x: unknown): BackendError {
  return x instanceof BackendError ? x : new BackendError(toAppError(x));
}
