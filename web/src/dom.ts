/** A few DOM helpers: the app builds its elements with `h` instead of a framework (see docs/web-app.md). */

type Child = Node | string | null | undefined | false
type Attributes = Record<string, string | number | boolean | null | undefined | EventListener>

/** An element with attributes (`on*` keys are listeners, booleans toggle the attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap> (tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value)
    else if (value === true) element.setAttribute(name, '')
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value))
  }
  element.append(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false))
  return element
}

/** Replaces an element's children. */
export function fill (element: Element, ...children: Child[]): void {
  element.replaceChildren(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false))
}

/** "14:05" today, "3 Dec 14:05" otherwise. */
export function shortTime (iso: string): string {
  const date = new Date(iso)
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
  return date.toDateString() === new Date().toDateString() ? time : `${date.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}`
}

/** "last seen 5 min ago" style wording for a presence. */
export function lastSeen (online: boolean, lastSeenAt: string | null): string {
  if (online) return 'online'
  if (lastSeenAt === null) return 'offline'
  const minutes = Math.round((Date.now() - new Date(lastSeenAt).getTime()) / 60_000)
  if (minutes < 1) return 'last seen just now'
  if (minutes < 60) return `last seen ${minutes} min ago`
  return `last seen ${shortTime(lastSeenAt)}`
}

/** The message of a failed call, for an alert. */
export function describeError (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
