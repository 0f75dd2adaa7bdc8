import type { StatementRecorder } from '../../capture/types.js';
import { isPool } from './guards.js';
import { instrumentPool } from './pool.js';
import { isInstrumented, markInstrumented } from './state.js';
import type { PoolClusterLike } from './types.js';

function instrumentNodes(recorder: StatementRecorder, cluster: PoolClusterLike): void {
  for (const id of Object.keys(cluster._nodes)) {
    const pool = cluster._nodes[id]?.pool;
    if (isPool(pool)) instrumentPool(recorder, pool);
  }
}

/** A PoolCluster is one Pool per node: instrument the nodes there are, and those added later. */
export function instrumentPoolCluster(recorder: StatementRecorder, cluster: PoolClusterLike): void {
  if (isInstrumented(cluster)) return;
  markInstrumented(cluster);
  instrumentNodes(recorder, cluster);
  const add = cluster.add;
  cluster.add = function (this: PoolClusterLike, ...args: unknown[]): unknown {
    const result = add.apply(this, args);
    instrumentNodes(recorder, this);
    return result;
  };
}
