import { AidocError } from '../errors/aidoc-error.ts';
import type { TaskFunction, TaskOptions } from './task-definition.ts';

/** A task as declared: its name, the names it depends on, its function and options. */
export interface TaskDeclaration {
  readonly name: string;
  readonly dependsOn: readonly string[];
  readonly run: TaskFunction<Record<string, unknown>, unknown, unknown>;
  readonly options: TaskOptions | undefined;
}

/** A task resolved to indices, so a run does no name lookups. */
export interface CompiledTask extends TaskDeclaration {
  readonly index: number;
  readonly dependencyIndices: readonly number[];
  readonly dependentIndices: readonly number[];
}

/** A validated graph: built once, run many times. */
export interface CompiledGraph {
  readonly tasks: readonly CompiledTask[];
  /** Tasks without dependencies: they start at once. */
  readonly roots: readonly number[];
  /** How many dependencies each task waits for; a run copies it and counts down. */
  readonly dependencyCounts: readonly number[];
}

/**
 * Validates declarations and resolves names to indices. Throws INVALID_INPUT for a duplicate
 * name, UNKNOWN_DEPENDENCY for a name not in the graph, and CYCLE naming the cycle
 * (`a -> b -> a`), so a broken graph fails where it is built, not in production traffic.
 */
export function compileGraph(declarations: readonly TaskDeclaration[]): CompiledGraph {
  const indexByName = new Map<string, number>();
  declarations.forEach((declaration, index) => {
    if (indexByName.has(declaration.name)) {
      throw new AidocError('INVALID_INPUT', `Task "${declaration.name}" is declared twice`, {
        details: { task: declaration.name },
      });
    }
    indexByName.set(declaration.name, index);
  });

  const dependencyIndices = declarations.map((declaration) =>
    declaration.dependsOn.map((dependency) => {
      const index = indexByName.get(dependency);
      if (index === undefined) {
        throw new AidocError(
          'UNKNOWN_DEPENDENCY',
          `Task "${declaration.name}" depends on "${dependency}", which is not in the graph (known: ${[...indexByName.keys()].join(', ')})`,
          { details: { task: declaration.name, dependency } },
        );
      }
      return index;
    }),
  );

  const cycle = findCycle(dependencyIndices);
  if (cycle !== undefined) {
    const names = cycle.map((index) => declarations[index]!.name);
    throw new AidocError('CYCLE', `Task graph has a cycle: ${names.join(' -> ')}`, {
      details: { cycle: names },
    });
  }

  const dependents: number[][] = declarations.map(() => []);
  dependencyIndices.forEach((dependencies, index) => {
    for (const dependency of new Set(dependencies)) dependents[dependency]!.push(index);
  });

  const tasks = declarations.map(
    (declaration, index): CompiledTask => ({
      ...declaration,
      index,
      dependencyIndices: dependencyIndices[index]!,
      dependentIndices: dependents[index]!,
    }),
  );
  return {
    tasks,
    roots: tasks.filter((task) => task.dependencyIndices.length === 0).map((task) => task.index),
    dependencyCounts: dependencyIndices.map((dependencies) => new Set(dependencies).size),
  };
}

/** Depth-first search; returns the first cycle found as a closed path of indices. */
function findCycle(dependencyIndices: readonly (readonly number[])[]): number[] | undefined {
  const unvisited = 0;
  const onPath = 1;
  const done = 2;
  const state = new Uint8Array(dependencyIndices.length);
  const path: number[] = [];

  const visit = (index: number): number[] | undefined => {
    state[index] = onPath;
    path.push(index);
    for (const dependency of dependencyIndices[index]!) {
      if (state[dependency] === onPath) {
        // Report in dependency order, closed: the task, what it needs, ..., the task again.
        const cycle = path.slice(path.indexOf(dependency));
        return [...cycle, dependency];
      }
      if (state[dependency] === unvisited) {
        const found = visit(dependency);
        if (found !== undefined) return found;
      }
    }
    path.pop();
    state[index] = done;
    return undefined;
  };

  for (let index = 0; index < dependencyIndices.length; index++) {
    if (state[index] === unvisited) {
      const found = visit(index);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
