import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Client, Pool, type PoolClient } from 'pg';
import { DataConfig } from '../../core/config/data.config';
import { DatabaseConfig } from '../../core/config/database.config';
import { SandboxUnavailableException } from './data.exceptions';
import { SandboxAccess, type SandboxLogin } from './sandbox-access';

/**
 * Counts the sandbox connections this process has open (or is opening) against DATA_MAX_CONNECTIONS. A
 * connection takes a slot before it connects and gives it back when it ends; when none is free the oldest idle
 * tenant pool is closed to make room, else the connection waits for one.
 */
class ConnectionSlots {
  private used = 0;
  private readonly waiting: Array<(release: () => void) => void> = [];

  constructor(
    private readonly cap: number,
    private readonly makeRoom: () => void,
    private readonly freed: () => void,
  ) {}

  get open(): number {
    return this.used;
  }

  get queued(): number {
    return this.waiting.length;
  }

  acquire(): Promise<() => void> {
    if (this.used < this.cap) {
      this.used += 1;
      return Promise.resolve(this.releaser());
    }
    const queued = new Promise<() => void>((resolve) => this.waiting.push(resolve));
    this.makeRoom();
    return queued;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.freed();
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter; only with nobody waiting is it freed.
      if (next) next(this.releaser());
      else this.used -= 1;
    };
  }
}

/** A pg.Client that holds a slot from before it connects until it ends. */
function slottedClient(slots: ConnectionSlots): typeof Client {
  return class SlottedClient extends Client {
    override connect(): Promise<Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: Client) => void)): void;
    override connect(
      callback?: ((err: Error) => void) | ((err: null, c: Client) => void),
    ): Promise<Client> | void {
      const connected = slots.acquire().then(async (release) => {
        this.once('end', release);
        try {
          return await super.connect();
        } catch (error) {
          release();
          throw error;
        }
      });
      if (!callback) return connected;
      const done = callback as (err: Error | null, client?: Client) => void;
      connected.then(
        (client) => done(null, client),
        (error: Error) => done(error),
      );
    }
  };
}

interface TenantPool {
  tenantId: string;
  pool: Pool;
  login: SandboxLogin;
  /** Checked-out connections and waiting checkouts of this pool. */
  busy: number;
}

/** One checked-out sandbox connection. `release(true)` discards it (after a kill or a broken protocol state). */
export interface SandboxLease {
  client: PoolClient;
  release(discard?: boolean): void;
}

const PG_AUTH_FAILED = new Set(['28P01', '28000']);

/**
 * Sandbox connections: one small pg.Pool per tenant, whose sessions log in as the tenant's own role (never a
 * shared login that switches roles), idle connections closed after DATA_POOL_IDLE_MS, at most DATA_MAX_POOLS
 * pools (least recently used idle ones closed first) and DATA_MAX_CONNECTIONS connections in all.
 */
@Injectable()
export class SandboxPools implements OnModuleDestroy {
  private readonly logger = new Logger('DataSandbox');
  /** In least-recently-used order (a use moves a pool to the end). */
  private readonly pools = new Map<string, TenantPool>();
  private readonly opening = new Map<string, Promise<TenantPool>>();
  /** Slots that closed pools will give back shortly (their idle connections are ending). */
  private freeing = 0;
  private readonly slots: ConnectionSlots;
  private readonly Client: typeof Client;
  private closed = false;

  constructor(
    private readonly config: DataConfig,
    private readonly database: DatabaseConfig,
    private readonly access: SandboxAccess,
  ) {
    this.slots = new ConnectionSlots(
      config.DATA_MAX_CONNECTIONS,
      () => this.makeRoom(),
      () => (this.freeing = Math.max(0, this.freeing - 1)),
    );
    this.Client = slottedClient(this.slots);
  }

  /** For the pool-size gauge. */
  stats(): { pools: number; open: number; idle: number; waiting: number } {
    let idle = 0;
    let waiting = this.slots.queued;
    for (const { pool } of this.pools.values()) {
      idle += pool.idleCount;
      waiting += pool.waitingCount;
    }
    return { pools: this.pools.size, open: this.slots.open, idle, waiting };
  }

  async acquire(tenantId: string, signal?: AbortSignal): Promise<SandboxLease> {
    const deadline = Date.now() + this.config.DATA_ACQUIRE_TIMEOUT_MS;
    for (let attempt = 1; ; attempt += 1) {
      const entry = await this.poolOf(tenantId);
      entry.busy += 1;
      let client: PoolClient;
      try {
        client = await this.checkout(entry.pool, deadline - Date.now(), signal);
      } catch (error) {
        entry.busy -= 1;
        const code = (error as { code?: string }).code;
        if (code && PG_AUTH_FAILED.has(code) && attempt === 1) {
          // Another process set a new password, or someone changed it: read (or set) it again and retry once.
          this.drop(entry);
          await this.access.renew(tenantId, entry.login.secret);
          continue;
        }
        throw error;
      }
      // Errors of a checked-out connection surface through its query; without a listener they would crash us.
      const onError = () => undefined;
      client.on('error', onError);
      let released = false;
      return {
        client,
        release: (discard = false) => {
          if (released) return;
          released = true;
          client.removeListener('error', onError);
          client.release(discard || undefined);
          entry.busy -= 1;
          // A connection waits for a slot while this pool may now be idle: its connections can make room.
          this.makeRoom();
        },
      };
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.opening.values()]);
    await Promise.all([...this.pools.values()].map((entry) => entry.pool.end().catch(() => undefined)));
    this.pools.clear();
  }

  private checkout(pool: Pool, timeoutMs: number, signal?: AbortSignal): Promise<PoolClient> {
    const pending = pool.connect();
    return new Promise<PoolClient>((resolve, reject) => {
      let settled = false;
      const giveUp = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // The checkout may still succeed later: hand that connection straight back.
        pending.then(
          (client) => client.release(),
          () => undefined,
        );
        reject(error);
      };
      const onAbort = () => giveUp(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      const timer = setTimeout(
        () =>
          giveUp(
            new SandboxUnavailableException(
              `Every sandbox connection is busy (waited ${this.config.DATA_ACQUIRE_TIMEOUT_MS} ms); retry shortly`,
            ),
          ),
        Math.max(timeoutMs, 0),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      pending.then(
        (client) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(client);
        },
        (error: Error) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  private async poolOf(tenantId: string): Promise<TenantPool> {
    if (this.closed) throw new SandboxUnavailableException('The sandbox is shutting down');
    const existing = this.pools.get(tenantId);
    if (existing) {
      this.pools.delete(tenantId);
      this.pools.set(tenantId, existing);
      return existing;
    }
    let opening = this.opening.get(tenantId);
    if (!opening) {
      opening = this.open(tenantId).finally(() => this.opening.delete(tenantId));
      this.opening.set(tenantId, opening);
    }
    return opening;
  }

  private async open(tenantId: string): Promise<TenantPool> {
    const login = await this.access.login(tenantId);
    const url = new URL(this.database.directUrl);
    url.username = encodeURIComponent(login.user);
    url.password = encodeURIComponent(login.password);
    for (const param of ['options', 'application_name', 'user', 'password']) url.searchParams.delete(param);
    const pool = new Pool({
      connectionString: url.href,
      application_name: 'conflux-sandbox',
      options: login.options,
      max: this.config.DATA_POOL_SIZE,
      idleTimeoutMillis: this.config.DATA_POOL_IDLE_MS,
      Client: this.Client,
    });
    pool.on('error', (error) =>
      this.logger.warn(`idle sandbox connection of '${tenantId}' failed: ${error.message}`),
    );
    const entry: TenantPool = { tenantId, pool, login, busy: 0 };
    this.pools.set(tenantId, entry);
    this.trim(entry);
    return entry;
  }

  /** Past DATA_MAX_POOLS, closes the least recently used pools that nobody is using. */
  private trim(keep: TenantPool): void {
    for (const entry of this.pools.values()) {
      if (this.pools.size <= this.config.DATA_MAX_POOLS) return;
      if (entry.busy === 0 && entry !== keep) this.drop(entry);
    }
  }

  /**
   * Connections wait for a slot: closes the least recently used pool whose connections are all idle, unless pools
   * closed already will give back enough slots.
   */
  private makeRoom(): void {
    if (this.slots.queued <= this.freeing) return;
    for (const entry of this.pools.values()) {
      const { pool } = entry;
      if (entry.busy === 0 && pool.totalCount > 0 && pool.idleCount === pool.totalCount) {
        this.freeing += pool.idleCount;
        this.drop(entry);
        return;
      }
    }
  }

  private drop(entry: TenantPool): void {
    if (this.pools.get(entry.tenantId) === entry) this.pools.delete(entry.tenantId);
    entry.pool
      .end()
      .catch((error: Error) => this.logger.warn(`closing a sandbox pool failed: ${error.message}`));
  }
}
