import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { InsufficientPermissionsException } from '../../core/auth/auth.exceptions';
import { Authenticator } from '../../core/auth/authenticator';
import { TokenService } from '../../core/auth/token.service';
import { AppException } from '../../core/http/app.exception';
import { errorEnvelope, sendError } from '../../core/http/error-envelope';
import { requestIdOf } from '../../core/http/request-id';
import { JobQueue } from '../../core/queue/job-queue.service';
import { version } from '../../version';

export const QUEUE_BOARD_PATH = '/admin/queues';
const SESSION_COOKIE = 'conflux_queues_session';
/** The browser session a bearer token opens on the board. */
const SESSION_SECONDS = 15 * 60;

/**
 * Bull Board over every queue of the deployment at /admin/queues, for platform admins only. The credential is
 * what the API takes (Authorization, X-API-Key), or `?access_token=` once from a browser: it opens a session
 * cookie (HttpOnly, SameSite=Strict, this path only, 15 min) holding a Conflux token for the same admin.
 */
export function mountQueueBoard(app: INestApplication): void {
  const jobs = app.get(JobQueue);
  const authenticator = app.get(Authenticator);
  const tokens = app.get(TokenService);
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: jobs.allQueues().map((queue) => new BullMQAdapter(queue)),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: `Conflux ${version}` } },
  });
  app.use(
    QUEUE_BOARD_PATH,
    (req: Request, res: Response, next: NextFunction) =>
      void guard(authenticator, tokens, req, res).then((ok) => ok && next(), next),
    adapter.getRouter() as (req: Request, res: Response, next: NextFunction) => void,
  );
}

async function guard(
  authenticator: Authenticator,
  tokens: TokenService,
  req: Request,
  res: Response,
): Promise<boolean> {
  const fromQuery = typeof req.query.access_token === 'string' ? req.query.access_token : undefined;
  const fromCookie = cookieOf(req, SESSION_COOKIE);
  const headers =
    req.headers.authorization || req.headers['x-api-key']
      ? req.headers
      : fromQuery || fromCookie
        ? { authorization: `Bearer ${fromQuery ?? fromCookie}` }
        : req.headers;
  try {
    const principal = await authenticator.authenticate({ headers });
    if (principal.role !== 'admin') throw new InsufficientPermissionsException('admin', principal.role);
    if (principal.via !== 'bypass' && (fromQuery || !fromCookie)) {
      const session = tokens.issue({ ...principal, user_id: principal.user_id ?? 'admin' }).token;
      res.cookie(SESSION_COOKIE, session, {
        httpOnly: true,
        sameSite: 'strict',
        secure: req.secure,
        path: QUEUE_BOARD_PATH,
        maxAge: SESSION_SECONDS * 1000,
      });
    }
    return true;
  } catch (error) {
    if (!(error instanceof AppException)) throw error;
    const status = error.getStatus();
    sendError(res, status, errorEnvelope(status, error.code, error.message, requestIdOf(req)));
    return false;
  }
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}
