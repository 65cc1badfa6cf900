import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { JOB_CATALOG, type JobCatalog } from './job-catalog';
import { JOB_HANDLER } from './job-handler.decorator';

export type JobFunction = (
  payload: unknown,
  job: {
    id?: string;
    attemptsMade: number;
    signal?: AbortSignal;
    /** True once the worker is shutting down: a long handler should wrap up rather than take on more. */
    stopping?: () => boolean;
  },
) => Promise<unknown>;

export class JobRegistryError extends Error {
  constructor(problems: string[]) {
    super(`Job registry is inconsistent:\n  - ${problems.join('\n  - ')}`);
    this.name = 'JobRegistryError';
  }
}

/**
 * Finds every `@JobHandler` method and checks it against the catalog when the worker starts: a job without a
 * handler, with two, or a handler for a job nobody declared, stops the process before it consumes anything.
 */
@Injectable()
export class JobRegistry {
  private readonly handlers = new Map<string, JobFunction>();

  constructor(
    @Inject(JOB_CATALOG) private readonly catalog: JobCatalog,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  /** Discovers and checks the handlers; throws JobRegistryError naming every problem. */
  load(): void {
    this.handlers.clear();
    const found = new Map<string, string[]>();
    const problems: string[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = (instance as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const name = this.reflector.get<string | undefined>(JOB_HANDLER, fn);
        if (!name) continue;
        const where = `${instance.constructor.name}.${method}`;
        found.set(name, [...(found.get(name) ?? []), where]);
        this.handlers.set(name, (fn as JobFunction).bind(instance));
      }
    }
    for (const name of Object.keys(this.catalog)) {
      const places = found.get(name) ?? [];
      if (places.length === 0) problems.push(`job '${name}' has no handler`);
      if (places.length > 1)
        problems.push(`job '${name}' has ${places.length} handlers: ${places.join(', ')}`);
    }
    for (const [name, places] of found) {
      if (!(name in this.catalog)) problems.push(`handler ${places.join(', ')} is for unknown job '${name}'`);
    }
    if (problems.length > 0) throw new JobRegistryError(problems);
  }

  handlerFor(name: string): JobFunction | undefined {
    return this.handlers.get(name);
  }
}
