// `npm run fuzz`: 10,000 requests generated from openapi.json (FUZZ_COUNT, FUZZ_SEED) against a real API on fresh
// test backends; prints the answers by status and every 5xx with the request that caused it.
import { adminToken, loginAdmin, onboardTenant } from '../support/auth';
import { graph, publish, startRun } from '../support/workflows';
import { createTestBackends, relaxRateLimits, startTestApi } from '../support/harness';
import { prepareTestBackends } from '../support/backends';
import { fuzz } from './openapi-fuzz';

async function main(): Promise<void> {
  const stopServers = await prepareTestBackends();
  const backends = await createTestBackends({
    RATE_LIMIT_IP_PER_MINUTE: '1000000',
    RATE_LIMIT_LOGIN_PER_MINUTE: '1000000',
  });
  await relaxRateLimits(backends);
  const api = await startTestApi(backends.env);
  try {
    const acme = await onboardTenant(api.url, await loginAdmin(api.url), 'acme');
    const workflowId = await publish(api.url, acme, graph([{ id: 'start', type: 'trigger.manual' }], []));
    const runId = (await startRun(api.url, acme, workflowId)).body.id as string;
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const started = Date.now();
    const report = await fuzz({
      baseUrl: api.url,
      credentials: [acme.ownerKey.headers, { authorization: `Bearer ${adminToken()}` }],
      ids: [workflowId, runId, 'acme', '00000000-0000-4000-8000-000000000000'],
      count: Number(process.env.FUZZ_COUNT ?? 10_000),
      seed,
    });
    console.log(`seed ${seed}: ${report.sent} requests in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`by status: ${JSON.stringify(report.byStatus)}`);
    console.log(`5xx: ${report.serverErrors.length}`);
    for (const error of report.serverErrors.slice(0, 20)) console.log(JSON.stringify(error).slice(0, 500));
    process.exitCode = report.serverErrors.length > 0 ? 1 : 0;
  } finally {
    await api.close();
    await backends.cleanup();
    await stopServers();
  }
}

void main();
