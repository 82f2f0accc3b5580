import { fail, type LatchkeyError } from '../errors.js';
import type { Limiter, LimiterState, RateLimitStore } from '../stores/types.js';

export interface AuthLimits {
  /** Failed sign-ins per account, from browsers without its device cookie. */
  readonly account: CountedLimit;
  /** Failed sign-ins per device-cookie nonce, from browsers that hold it. */
  readonly device: CountedLimit;
  /** Failed sign-ins per client address (20× the account limit by default). */
  readonly address: CountedLimit;
  /** Registrations per client address per hour. */
  readonly register: CountedLimit;
}

export interface CountedLimit {
  /** Counts an attempt first, so parallel guesses cannot slip past; the state when over. */
  exceeded(key: string): Promise<LimiterState | null>;
  reset(key: string): Promise<void>;
  refund(key: string): Promise<void>;
}

export interface LimitSettings {
  loginLimit: number;
  addressLimit: number;
  registerLimit: number;
  windowMs: number;
}

/** A counter over `limiter` that is over once it passes `limit`. */
export function counted(limiter: Limiter, limit: number): CountedLimit {
  return {
    async exceeded(key) {
      const state = await limiter.hit(key);
      return state.consumed > limit ? state : null;
    },
    reset: (key) => limiter.reset(key),
    refund: (key) => limiter.refund(key),
  };
}

export function createAuthLimits(store: RateLimitStore, settings: LimitSettings): AuthLimits {
  const limiter = (name: string, windowMs: number) => store.createLimiter({ name, windowMs });
  return {
    account: counted(limiter('login-account', settings.windowMs), settings.loginLimit),
    device: counted(limiter('login-device', settings.windowMs), settings.loginLimit),
    address: counted(limiter('login-address', settings.windowMs), settings.addressLimit),
    register: counted(limiter('register-address', 3_600_000), settings.registerLimit),
  };
}

/** `429 rate_limited` with a Retry-After in whole seconds. */
export function rateLimited(state: LimiterState): LatchkeyError {
  return fail('rate_limited', {
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(state.msBeforeNext / 1000))) },
  });
}
