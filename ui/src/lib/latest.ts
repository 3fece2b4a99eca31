import { toAppError } from "./backend";
import type { AppError } from "./bindings/AppError";

/**
 * For an `$effect` that asks the backend: hands the answer to `onvalue`, or what went wrong
 * (as an AppError) to `onerror`, unless the effect ran again or its component went first,
 * so a slow answer to an old question never overwrites a newer one. Return its result from
 * the effect: that is the cleanup which marks the question stale.
 */
export function latest<T>(answer: Promise<T>, onvalue: (value: T) => void, onerror: (error: AppError) => void): () => void {
  let live = true;
  answer.then(
    (value) => {
      if (live) onvalue(value);
    },
    (e) => {
      if (live) onerror(toAppError(e));
    },
  );
  return () => {
    live = false;
  };
}
