/**
 * A reason a process cannot start that the operator can act on (bad configuration, a port or data directory
 * held by another process): printed as its message alone, without a stack trace.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}
