// Test support (imported by tests only): two reads of the connections that cross.
import { waitFor } from "@testing-library/svelte";
import { expect } from "vitest";
import { connectionsVersion } from "../remote";
import type { createFakeBackend } from "../backend";

type Fake = ReturnType<typeof createFakeBackend>;

/** Holds every `connectionsList` answer until its release is called, in order of asking. */
export function holdReads(backend: Fake): (() => void)[] {
  const held: (() => void)[] = [];
  const read = backend.connectionsList.bind(backend);
  backend.connectionsList = () => {
    const answer = read();
    return new Promise((resolve) => held.push(() => resolve(answer)));
  };
  return held;
}

/**
 * Two reads of the connections on their way at once (the watcher's, as when the contexts
 * file changes), with connection `name` saved between them: the first read's answer lacks
 * it, the second's has it. Returns the two releases.
 */
export async function crossingReads(backend: Fake, name: string, deployment: string): Promise<[() => void, () => void]> {
  const held = holdReads(backend);
  connectionsVersion.update((v) => v + 1);
  await waitFor(() => expect(held).toHaveLength(1));
  backend.remote.connectionSave({
    name,
    previous: null,
    label: "",
    url: `https://${name}.example`,
    deployments: [deployment],
    key: "k",
    session_only: false,
  });
  connectionsVersion.update((v) => v + 1);
  await waitFor(() => expect(held).toHaveLength(2));
  return [held[0], held[1]];
}
