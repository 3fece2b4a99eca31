import { untrack } from "svelte";
import { get, type Readable } from "svelte/store";

/**
 * In a component's setup: runs `then` each time the store `version()` gives (a number bumped
 * when something changed elsewhere: the library, the connections, a remote job) moves on
 * from the value it has now, while the component lives. The value it has now is the one the
 * component starts from, so nothing runs for it. `then` runs in an effect, as `$store` would.
 */
export function onBump(version: () => Readable<number>, then: () => void): void {
  let value = $state(get(untrack(version)));
  let seen = untrack(() => value);
  $effect(() => version().subscribe((v) => (value = v)));
  $effect(() => {
    const v = value;
    if (v === seen) return;
    seen = v;
    untrack(then);
  });
}
