/** A random DAG: task i may depend on any earlier task, so it is acyclic by construction. */
export interface RandomDag {
  readonly latenciesMs: readonly number[];
  readonly dependsOn: readonly (readonly number[])[];
}

export function randomDag(size: number, random: () => number, options: { minLatencyMs: number; maxLatencyMs: number; edgeProbability: number }): RandomDag {
  const latenciesMs = Array.from({ length: size }, () => Math.round(options.minLatencyMs + random() * (options.maxLatencyMs - options.minLatencyMs)));
  const dependsOn = Array.from({ length: size }, (_, index) =>
    Array.from({ length: index }, (_, earlier) => earlier).filter(() => random() < options.edgeProbability),
  );
  return { latenciesMs, dependsOn };
}

/** Length of the longest path when task i takes `durations[i]`. */
export function longestPath(dag: RandomDag, durations: readonly number[]): number {
  const finish: number[] = [];
  dag.dependsOn.forEach((dependencies, index) => {
    const ready = dependencies.reduce((latest, dependency) => Math.max(latest, finish[dependency]!), 0);
    finish[index] = ready + durations[index]!;
  });
  return Math.max(0, ...finish);
}

/** Groups tasks by depth (longest dependency chain), the way level-by-level code runs them. */
export function levels(dag: RandomDag): number[][] {
  const depth: number[] = [];
  dag.dependsOn.forEach((dependencies, index) => {
    depth[index] = dependencies.reduce((deepest, dependency) => Math.max(deepest, depth[dependency]! + 1), 0);
  });
  const result: number[][] = [];
  depth.forEach((level, index) => (result[level] ??= []).push(index));
  return result;
}
