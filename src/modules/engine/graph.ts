import type { WorkflowDefinition, WorkflowEdge, WorkflowNode } from '../workflows/entities/workflow.entity';
import { isTrigger, STEPS_BY_TYPE } from '../steps/catalog';

export interface SettledStep {
  status: string;
  output?: unknown;
}

/** Read-only views of a published definition the engine walks. */
export class WorkflowGraph {
  private readonly nodes: Map<string, WorkflowNode>;
  private readonly incoming = new Map<string, WorkflowEdge[]>();

  constructor(readonly definition: WorkflowDefinition) {
    this.nodes = new Map(definition.nodes.map((node) => [node.id, node]));
    for (const edge of definition.edges)
      this.incoming.set(edge.target, [...(this.incoming.get(edge.target) ?? []), edge]);
  }

  node(id: string): WorkflowNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`node '${id}' is not in the workflow`);
    return node;
  }

  trigger(): WorkflowNode {
    const trigger = this.definition.nodes.find((node) => isTrigger(node.type));
    if (!trigger) throw new Error('the workflow has no trigger');
    return trigger;
  }

  /**
   * What to do with the nodes not started yet, given the steps so far. A node runs once every incoming edge is
   * settled (AND-join) and at least one of them is taken; when none is taken it is skipped, and skipping can
   * settle further nodes, so this repeats until nothing changes.
   */
  decide(steps: ReadonlyMap<string, SettledStep>): { run: string[]; skip: string[] } {
    const state = new Map(steps);
    const run: string[] = [];
    const skip: string[] = [];
    for (let changed = true; changed;) {
      changed = false;
      for (const node of this.definition.nodes) {
        if (state.has(node.id) || isTrigger(node.type)) continue;
        const edges = this.incoming.get(node.id) ?? [];
        const sources = edges.map((edge) => ({ edge, source: state.get(edge.source) }));
        if (
          sources.some(
            ({ source }) => !source || (source.status !== 'completed' && source.status !== 'skipped'),
          )
        )
          continue;
        const taken = sources.some(
          ({ edge, source }) => source?.status === 'completed' && this.isTaken(edge, source),
        );
        state.set(node.id, { status: taken ? 'queued' : 'skipped' });
        (taken ? run : skip).push(node.id);
        changed = true;
      }
    }
    return { run, skip };
  }

  /** An edge out of a branching step is taken only on the branch its output chose. */
  private isTaken(edge: WorkflowEdge, source: SettledStep): boolean {
    const branch = STEPS_BY_TYPE.get(this.nodes.get(edge.source)?.type ?? '')?.branch;
    return !branch || edge.sourceHandle === branch.taken(source.output);
  }
}
