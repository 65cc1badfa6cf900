import type { NextFunction, Request, Response } from 'express';
import type { MetricsService } from '../../core/metrics/metrics.service';

/** Times every request; labelled by the matched route pattern (`unmatched` for 404s), never the raw URL. */
export function httpMetrics(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const stop = metrics.httpDuration.startTimer({ method: req.method });
    res.once('finish', () => {
      // Nest answers unknown URLs from a catch-all route ('*path'): label those 'unmatched' too.
      const matched = (req.route as { path?: string } | undefined)?.path;
      const route = matched && !matched.startsWith('*') ? matched : 'unmatched';
      stop({ route, status: String(res.statusCode) });
    });
    next();
  };
}
