import { createMongoAbility, type MongoAbility, type RawRuleOf, subject as typed } from '@casl/ability';
import type { Role } from '../../core/auth/principal';
import {
  POLICY_ACTIONS,
  POLICY_SUBJECTS,
  type PolicyAction,
  type PolicyRule,
  type PolicySubject,
} from './policy-rules';

type AppAbility = MongoAbility<[PolicyAction, PolicySubject | Record<string, unknown>]>;

const CONCRETE_ACTIONS = POLICY_ACTIONS.filter((a) => a !== 'manage');
const CONCRETE_SUBJECTS = POLICY_SUBJECTS.filter((s) => s !== 'all');
const MEMBER_ACTIONS: PolicyAction[] = ['read', 'create', 'update', 'delete', 'run', 'publish'];

/** What a role may do before any policy: the SPEC's role ladder, as rules. */
export function roleRules(role: Role): RawRuleOf<AppAbility>[] {
  switch (role) {
    case 'admin':
    case 'owner':
      return [{ action: 'manage', subject: 'all' }];
    case 'member':
      return [{ action: MEMBER_ACTIONS, subject: [...CONCRETE_SUBJECTS] }];
    case 'viewer':
      return [{ action: 'read', subject: 'all' }];
  }
}

/** A policy as the ability sees it: its rules and the roles it narrows. */
export interface ActivePolicy {
  id: string;
  name: string;
  roles: readonly string[];
  rules: PolicyRule[];
}

const names = <T extends string>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const covers = (rule: PolicyRule, action: string, subject: string): boolean =>
  names(rule.action).some((a) => a === action || a === 'manage') &&
  names(rule.subject).some((s) => s === subject || s === 'all');

/**
 * A principal's effective ability: what its role allows, narrowed by the policies that apply to the role. Policies
 * only narrow. For an action on a subject that some policy grants with a positive rule, only what such a rule
 * grants stays allowed; inverted rules take away from whatever remains. The one place abilities are built.
 */
export class EffectiveAbility {
  private readonly role: AppAbility;
  private readonly policy: AppAbility;

  constructor(
    role: Role,
    private readonly policies: readonly ActivePolicy[],
  ) {
    this.role = createMongoAbility<AppAbility>(roleRules(role));
    const rules = policies.flatMap((p) => p.rules);
    const open: RawRuleOf<AppAbility>[] = [];
    for (const action of CONCRETE_ACTIONS)
      for (const subject of CONCRETE_SUBJECTS)
        if (!rules.some((rule) => !rule.inverted && covers(rule, action, subject)))
          open.push({ action, subject });
    this.policy = createMongoAbility<AppAbility>([...open, ...(rules as RawRuleOf<AppAbility>[])]);
  }

  /** Whether `action` on this record (on one of its fields, when given) is allowed. */
  can(
    action: PolicyAction,
    subject: PolicySubject,
    record: Record<string, unknown>,
    field?: string,
  ): boolean {
    const target = typed(subject, { ...record });
    return this.role.can(action, target, field) && this.policy.can(action, target, field);
  }

  /** The record's fields `action` may touch. */
  fields(action: PolicyAction, subject: PolicySubject, record: Record<string, unknown>): string[] {
    return Object.keys(record).filter((field) => this.can(action, subject, record, field));
  }

  /** The policy (and the reason it gives) whose rule refuses `action` on the record, for the 403 and the audit. */
  refusal(
    action: PolicyAction,
    subject: PolicySubject,
    record: Record<string, unknown>,
  ): { policy?: ActivePolicy; reason?: string } {
    const target = typed(subject, { ...record });
    const rule = this.policy.relevantRuleFor(action, target);
    const policy = rule
      ? this.policies.find((p) => p.rules.some((r) => r === (rule.origin as unknown)))
      : this.policies.find((p) => p.rules.some((r) => !r.inverted && covers(r, action, subject)));
    return { policy, reason: rule?.reason };
  }
}

/** Builds a role's effective ability under the policies that name the role. */
export function buildAbility(role: Role, policies: readonly ActivePolicy[]): EffectiveAbility {
  return new EffectiveAbility(role, role === 'admin' ? [] : policies.filter((p) => p.roles.includes(role)));
}
