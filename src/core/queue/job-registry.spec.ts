import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { JOB_CATALOG, type JobName } from './job-catalog';
import { JobHandler } from './job-handler.decorator';
import { JobRegistry, JobRegistryError } from './job-registry';

// Names outside the real catalog: the registry is checked against whatever catalog it is given.
const job = (name: string) => name as JobName;

@Injectable()
class HandlesA {
  @JobHandler(job('spec.a'))
  a(payload: { n: number }) {
    return Promise.resolve(payload.n * 2);
  }
}

@Injectable()
class AlsoHandlesA {
  @JobHandler(job('spec.a'))
  again() {
    return Promise.resolve(0);
  }
}

async function boot(catalog: Record<string, string>, providers: Array<new (...args: never[]) => unknown>) {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [{ provide: JOB_CATALOG, useValue: catalog }, JobRegistry, ...providers],
  }).compile();
  const registry = moduleRef.get(JobRegistry);
  registry.load();
  return registry;
}

describe('JobRegistry', () => {
  it('dispatches each job to its one handler', async () => {
    const registry = await boot({ 'spec.a': 'maintenance' }, [HandlesA]);
    await expect(registry.handlerFor('spec.a')?.({ n: 21 }, { attemptsMade: 0 })).resolves.toBe(42);
  });

  it('refuses a job with no handler', async () => {
    await expect(boot({ 'spec.a': 'maintenance', 'spec.b': 'maintenance' }, [HandlesA])).rejects.toThrow(
      new JobRegistryError(["job 'spec.b' has no handler"]),
    );
  });

  it('refuses a job with two handlers, naming both', async () => {
    await expect(boot({ 'spec.a': 'maintenance' }, [HandlesA, AlsoHandlesA])).rejects.toThrow(
      "job 'spec.a' has 2 handlers: HandlesA.a, AlsoHandlesA.again",
    );
  });

  it('refuses a handler for a job the catalog does not declare', async () => {
    await expect(boot({}, [HandlesA])).rejects.toThrow("handler HandlesA.a is for unknown job 'spec.a'");
  });
});
