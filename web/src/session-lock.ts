/**
 * One tab per session: a Web Lock named after the session id (the access token's `sid`) is held for the tab's
 * life. "Duplicate tab" copies sessionStorage, so without this two tabs would refresh the same refresh token and
 * the server would revoke the session as stolen (REFRESH_TOKEN_REUSED). Browsers without Web Locks skip the check.
 */
export async function claimSession (accessToken: string): Promise<boolean> {
  const sid = sessionOf(accessToken)
  if (sid === null || !('locks' in navigator)) return true
  return await new Promise<boolean>(resolve => {
    void navigator.locks.request(`parley-session:${sid}`, { ifAvailable: true }, async lock => {
      resolve(lock !== null)
      if (lock !== null) await new Promise(() => {}) // held until the tab closes
    })
  })
}

function sessionOf (token: string): string | null {
  try {
    const payload = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { sid?: unknown }
    return typeof payload.sid === 'string' ? payload.sid : null
  } catch {
    return null
  }
}
