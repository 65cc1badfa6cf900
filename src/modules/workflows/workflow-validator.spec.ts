import { describe, expect, it } from '@jest/globals';
import type { WorkflowDefinition, WorkflowNode, WorkflowStatus } from './entities/workflow.entity';
import { inputErrors, MAX_NODES, validateWorkflow } from './workflow-validator';

const node = (id: string, type: string, config: Record<string, unknown> = {}): WorkflowNode => ({
  id,
  type,
  position: { x: 0, y: 0 },
  data: { config },
});
const edge = (id: string, source: string, target: string, sourceHandle?: string) => ({
  id,
  source,
  target,
  sourceHandle,
});

const others = new Map<string, WorkflowStatus>([
  ['11111111-1111-4111-8111-111111111111', 'published'],
  ['22222222-2222-4222-8222-222222222222', 'draft'],
]);
const context = {
  workflowId: '99999999-9999-4999-8999-999999999999',
  lookupWorkflow: async (id: string) => others.get(id),
};
const check = (definition: WorkflowDefinition, inputSchema: Record<string, unknown> | null = null) =>
  validateWorkflow(definition, inputSchema, context);

const linear = (extra: WorkflowNode) => ({
  nodes: [node('start', 'trigger.manual'), extra],
  edges: [edge('e1', 'start', extra.id)],
});

describe('workflow validation', () => {
  it('accepts a valid graph with a condition, a template and retries', async () => {
    const definition: WorkflowDefinition = {
      nodes: [
        node('start', 'trigger.manual'),
        node('get', 'http.request', { method: 'GET', url: 'https://x.test/{{ input.id }}' }),
        node('if', 'condition', { expression: 'steps.get.output.status = 200' }),
        node('ok', 'transform', { expression: '{"ok": true}' }),
        node('wait', 'delay', { duration_ms: 1000 }),
      ],
      edges: [
        edge('a', 'start', 'get'),
        edge('b', 'get', 'if'),
        edge('c', 'if', 'ok', 'true'),
        edge('d', 'if', 'wait', 'false'),
      ],
    };
    expect(await check(definition, { type: 'object', properties: { id: { type: 'string' } } })).toEqual([]);
  });

  it('needs exactly one trigger', async () => {
    expect(await check({ nodes: [node('a', 'transform', { expression: '1' })], edges: [] })).toEqual([
      'workflow has no trigger node; exactly one is required',
    ]);
    expect(
      await check({ nodes: [node('t1', 'trigger.manual'), node('t2', 'trigger.webhook')], edges: [] }),
    ).toContain('workflow has 2 trigger nodes (t1, t2); exactly one is allowed');
  });

  it('refuses cycles, naming the nodes along it', async () => {
    const errors = await check({
      nodes: [
        node('start', 'trigger.manual'),
        node('a', 'delay', { duration_ms: 1 }),
        node('b', 'delay', { duration_ms: 1 }),
      ],
      edges: [edge('e1', 'start', 'a'), edge('e2', 'a', 'b'), edge('e3', 'b', 'a')],
    });
    expect(errors).toEqual(['cycle: a -> b -> a']);
  });

  it('refuses edges that name missing nodes', async () => {
    const errors = await check({
      nodes: [node('start', 'trigger.manual')],
      edges: [edge('e1', 'start', 'ghost'), edge('e2', 'nowhere', 'start')],
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        "edge 'e1': target 'ghost' is not a node",
        "edge 'e2': source 'nowhere' is not a node",
      ]),
    );
  });

  it('needs sourceHandle "true"/"false" on edges leaving a condition', async () => {
    const errors = await check({
      nodes: [
        node('start', 'trigger.manual'),
        node('if', 'condition', { expression: 'true' }),
        node('x', 'delay', { duration_ms: 1 }),
      ],
      edges: [edge('e1', 'start', 'if'), edge('e2', 'if', 'x')],
    });
    expect(errors).toEqual(['edge \'e2\' from condition \'if\': sourceHandle must be "true" or "false"']);
  });

  it('checks each config against its step schema', async () => {
    expect(await check(linear(node('h', 'http.request', { method: 'FETCH' })))).toEqual([
      "node 'h' (http.request): config must have required property 'url'",
      "node 'h' (http.request): config/method must be one of GET, POST, PUT, PATCH, DELETE, HEAD",
    ]);
    expect(await check(linear(node('d', 'delay', { duration_ms: 'soon', extra: 1 })))).toEqual([
      "node 'd' (delay): config has unknown property 'extra'",
      "node 'd' (delay): config/duration_ms must be integer",
    ]);
  });

  it('refuses unknown step types', async () => {
    expect(await check(linear(node('x', 'teleport')))).toEqual(["node 'x': unknown step type 'teleport'"]);
  });

  it('compiles JSONata expressions and {{ }} templates', async () => {
    expect(await check(linear(node('t', 'transform', { expression: 'a +' })))).toEqual([
      "node 't' (transform): expression does not compile: Unexpected end of expression (position 3)",
    ]);
    expect(
      await check(linear(node('h', 'http.request', { method: 'GET', url: 'https://x/{{ input.( }}' }))),
    ).toEqual([
      expect.stringMatching(
        /^node 'h' \(http\.request\): template \{\{ input\.\( \}\} in config\/url does not compile: /,
      ),
    ]);
  });

  it('checks that input_schema is a JSON Schema', async () => {
    const errors = await check(linear(node('d', 'delay', { duration_ms: 1 })), { type: 'strng' });
    expect(errors).toEqual([
      'input_schema is not a valid JSON Schema: input_schema/type must be one of array, boolean, integer, null, number, object, string',
    ]);
  });

  it('limits the graph to 500 nodes', async () => {
    const nodes = [
      node('start', 'trigger.manual'),
      ...Array.from({ length: MAX_NODES }, (_, i) => node(`n${i}`, 'delay', { duration_ms: 1 })),
    ];
    const edges = nodes.slice(1).map((n, i) => edge(`e${i}`, 'start', n.id));
    expect(await check({ nodes, edges })).toEqual(['workflow has 501 nodes; at most 500 are allowed']);
  });

  it('checks workflow.call targets and refuses steps that cannot run yet', async () => {
    const call = (id: string) => linear(node('c', 'workflow.call', { workflow_id: id }));
    expect(await check(call('11111111-1111-4111-8111-111111111111'))).toEqual([]);
    expect(await check(call('22222222-2222-4222-8222-222222222222'))).toEqual([
      "node 'c' (workflow.call): workflow '22222222-2222-4222-8222-222222222222' is draft, not published",
    ]);
    expect(await check(call('33333333-3333-4333-8333-333333333333'))).toEqual([
      "node 'c' (workflow.call): workflow '33333333-3333-4333-8333-333333333333' does not exist",
    ]);
    expect(await check(call(context.workflowId))).toEqual([
      "node 'c' (workflow.call): a workflow cannot call itself",
    ]);
    expect(
      await check(linear(node('q', 'sql.query', { sql: 'SELECT $1', params: ['{{ input.x }}'] }))),
    ).toEqual([]);
    // Templates go in params only: the SQL text is never rendered.
    expect(await check(linear(node('q', 'sql.query', { sql: "SELECT '{{ input.x }}'" })))).toEqual([
      expect.stringMatching(/^node 'q' \(sql\.query\): config\/sql must match pattern/),
    ]);
  });

  it('reports unreachable nodes and every problem of a broken graph at once', async () => {
    const errors = await check({
      nodes: [
        node('start', 'trigger.manual'),
        node('start', 'trigger.schedule'),
        node('lonely', 'delay', { duration_ms: 1 }),
        node('bad', 'transform', { expression: '(' }),
      ],
      edges: [edge('e1', 'start', 'bad'), edge('e1', 'bad', 'ghost')],
    });
    expect(errors).toEqual([
      "node 'start': duplicate node id",
      'workflow has 2 trigger nodes (start, start); exactly one is allowed',
      "edge 'e1': duplicate edge id",
      "edge 'e1': target 'ghost' is not a node",
      'node \'bad\' (transform): expression does not compile: Expected ")" before end of expression (position 1)',
    ]);
  });

  it('reports a node no path reaches', async () => {
    const errors = await check({
      nodes: [
        node('start', 'trigger.manual'),
        node('a', 'delay', { duration_ms: 1 }),
        node('island', 'delay', { duration_ms: 1 }),
      ],
      edges: [edge('e1', 'start', 'a')],
    });
    expect(errors).toEqual(["node 'island' is not reachable from the trigger"]);
  });
});

describe('input schemas', () => {
  it('checks each schema against its own patterns, whichever was compiled first', () => {
    const schema = (pattern: string) => ({
      type: 'object',
      properties: { code: { type: 'string', pattern } },
    });
    expect(inputErrors(schema('^a+$'), { code: 'aaa' })).toEqual([]);
    expect(inputErrors(schema('^b+$'), { code: 'bbb' })).toEqual([]);
    expect(inputErrors(schema('^b+$'), { code: 'aaa' })).toHaveLength(1);
    expect(inputErrors(schema('^a+$'), { code: 'bbb' })).toHaveLength(1);
  });
});
