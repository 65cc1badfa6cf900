import Ajv from 'ajv';
import { DEFINITION_SCHEMA } from '../workflows/dto/definition.schema';
import type { PackagedWorkflow } from '../workflows/workflows.service';

/** Semantic Versioning 2.0.0, the regular expression semver.org gives. */
const SEMVER =
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)' +
  '(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][a-zA-Z0-9-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][a-zA-Z0-9-]*))*))?' +
  '(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$';

/** At most this many workflows in one package. */
export const MAX_PACKAGE_WORKFLOWS = 100;

/**
 * The WPK manifest (docs/packages.md shows it): what `POST /wpk/pack` takes and what `manifest.json` plus the
 * per-workflow files of an artifact read back as. Names and keys are plain so they make safe archive paths.
 */
export const WPK_MANIFEST_SCHEMA = {
  type: 'object',
  required: ['name', 'version', 'workflows'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,99}$' },
    version: { type: 'string', maxLength: 64, pattern: SEMVER },
    description: { type: 'string', maxLength: 5000 },
    workflows: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_PACKAGE_WORKFLOWS,
      items: {
        type: 'object',
        required: ['key', 'name', 'definition'],
        additionalProperties: false,
        properties: {
          key: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
          name: { type: 'string', minLength: 1, maxLength: 200 },
          description: { type: 'string', maxLength: 5000 },
          definition: DEFINITION_SCHEMA,
          input_schema: { type: 'object', nullable: true },
        },
      },
    },
  },
} as const;

export interface WpkManifest {
  name: string;
  version: string;
  description?: string;
  workflows: PackagedWorkflow[];
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(WPK_MANIFEST_SCHEMA);

/** Every way `value` is not a WPK manifest (schema, then duplicate keys), as `path message` sentences. */
export function manifestProblems(value: unknown): string[] {
  if (!validate(value)) {
    return (validate.errors ?? []).map((e) => {
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      return `wpk${e.instancePath} ${extra ? `has unknown property '${extra}'` : (e.message ?? 'is invalid')}`;
    });
  }
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const [i, workflow] of (value as unknown as WpkManifest).workflows.entries()) {
    if (seen.has(workflow.key)) problems.push(`wpk/workflows/${i}/key '${workflow.key}' is used twice`);
    seen.add(workflow.key);
  }
  return problems;
}
