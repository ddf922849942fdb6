/**
 * Reading explain output as MongoDB gives it, for the conformance tests: the stages of a plan tree, and the
 * find-level explain inside an aggregate's (top level when the whole pipeline became a find, else the
 * first stage's `$cursor`; MongoDB answers either, by version and pipeline).
 */

/** Every stage of a plan tree, depth first: classic `inputStage(s)`, and SBE's `queryPlan` wrapper. */
export function planStages (plan: any): any[] {
  if (plan === null || typeof plan !== 'object') return []
  const inner = [plan.queryPlan, plan.inputStage, ...(Array.isArray(plan.inputStages) ? plan.inputStages : [])]
  const own = typeof plan.stage === 'string' ? [plan] : []
  return [...own, ...inner.flatMap(planStages)]
}

/** The stage names of a plan tree, top down. */
export function stageNames (plan: any): string[] {
  return planStages(plan).map(s => s.stage)
}

/** `{ queryPlanner, executionStats? }` of an explain: the reply itself, or its first stage's `$cursor`. */
export function findExplain (explain: any): any {
  if (explain?.queryPlanner !== undefined) return explain
  return explain?.stages?.[0]?.$cursor
}
