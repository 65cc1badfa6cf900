// bench:engine's Restate side: the same 3-step no-op workflow as Conflux's (trigger, then two transforms), as a
// service whose handler journals three `ctx.run` steps; each step's result is durable before the next starts.
// `http`: the HTTP workload (BENCH_WORKLOAD=http), three `ctx.run` GETs of the bench's local endpoint.
import * as restate from '@restatedev/restate-sdk';

const bench = restate.service({
  name: 'Bench',
  handlers: {
    run: async (ctx, input) => {
      const start = await ctx.run('start', () => input);
      const a = await ctx.run('a', () => start.i);
      return ctx.run('b', () => a + 1);
    },
    http: async (ctx, input) => {
      for (const step of ['a', 'b', 'c'])
        await ctx.run(step, async () => (await fetch(`${input.url}/${step}`)).json());
      return input.i + 1;
    },
  },
});

restate.serve({ services: [bench], port: Number(process.env.PORT) });
