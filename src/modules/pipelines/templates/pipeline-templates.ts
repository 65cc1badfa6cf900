import { type PipelineTemplate, loadTemplates } from './template-catalog';

/** The repository's pipeline templates, read and checked once at boot (a broken one stops the process). */
export class PipelineTemplates {
  private readonly byKey: Map<string, PipelineTemplate>;

  constructor(readonly all: readonly PipelineTemplate[]) {
    this.byKey = new Map(all.map((t) => [t.key, t]));
  }

  static async load(): Promise<PipelineTemplates> {
    return new PipelineTemplates(await loadTemplates());
  }

  find(provider: string, domain: string, template: string): PipelineTemplate | undefined {
    return this.byKey.get(`${provider}/${domain}/${template}`);
  }
}
