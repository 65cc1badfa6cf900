import type { NextFunction, Request, Response } from 'express';
import type { MetricsService } from '../../core/metrics/metrics.service';

/** Times every request; labelled by the matched route pattern (`unmatched` for 404s), never the raw URL. */
export function httpMetrics(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const stop = metrics.httpDuration.startTimer({ method: req.method });
    res.once('finish', () => {
      // Nest answers unknown URLs from a catch-all route ('*path'): label those 'unmatched' too.
      // Mounted routers (the queue board) match below their base path, and may match several patterns at once.
      const path = (req.route as { path?: string | string[] } | undefined)?.path;
      const matched = Array.isArray(path) ? path.join('|') : path;
      const route = matched && !matched.startsWith('*') ? `${req.baseUrl}${matched}` : 'unmatched';
      stop({ route, status: String(res.statusCode) });
    });
    next();
  };
}
