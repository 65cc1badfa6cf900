import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { loadTemplates } from './template-catalog';

let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function templatesWith(yaml: string, at = 'aws/cost/broken.yaml'): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'conflux-templates-'));
  mkdirSync(path.join(dir, path.dirname(at)), { recursive: true });
  writeFileSync(path.join(dir, at), yaml);
  return dir;
}

const VALID = `
description: test
variables:
  document_id: { type: string, default: '' }
workflow:
  nodes:
    - { id: start, type: trigger.manual }
    - { id: extract, type: pipeline.extract, config: { provider: aws, document_id: '{document_id}' } }
`;

describe('pipeline templates', () => {
  it('loads every shipped template as a valid workflow with its variables as input', async () => {
    const templates = await loadTemplates();
    expect(templates.map((t) => t.key)).toEqual(
      expect.arrayContaining(['aws/cost/billing_cost', 'gcp/cost/billing_cost', 'azure/cost/billing_cost']),
    );
    for (const t of templates) {
      expect(t.definition.edges.length).toBe(t.definition.nodes.length - 1);
      expect(t.inputSchema.required).toEqual(
        expect.arrayContaining(['tenant_id', 'pipeline_id', 'date', 'trigger_by']),
      );
    }
  });

  it('turns {variables} into run-input templates, so values reach steps as data', async () => {
    const [t] = await loadTemplates(templatesWith(VALID, 'aws/cost/ok.yaml'));
    expect(t.key).toBe('aws/cost/ok');
    expect(t.definition.nodes[1].data.config).toEqual({
      provider: 'aws',
      document_id: '{{ input.document_id }}',
    });
    expect(t.definition.edges).toEqual([expect.objectContaining({ source: 'start', target: 'extract' })]);
  });

  it.each([
    ['not YAML', 'description: [unclosed', /not valid YAML/],
    ['no workflow', 'description: x', /must have required property 'workflow'/],
    ['an unknown step type', VALID.replace('pipeline.extract', 'pipeline.nope'), /pipeline\.nope/],
    [
      'an undeclared variable',
      VALID.replace('{document_id}', '{region}'),
      /\{region\}, which is not a declared variable/,
    ],
    ['an unused variable', VALID.replace("'{document_id}'", "''"), /declared but unused: document_id/],
    ['a built-in declared', VALID.replace('document_id: { type', 'date: { type'), /built in/],
    ['a config the step refuses', VALID.replace('provider: aws', 'provider: ibm'), /provider/],
  ])('refuses a template with %s, naming its file', async (_what, yaml, problem) => {
    const at = templatesWith(yaml);
    await expect(loadTemplates(at)).rejects.toThrow(/pipeline template aws\/cost\/broken\.yaml/);
    await expect(loadTemplates(at)).rejects.toThrow(problem);
  });
});
