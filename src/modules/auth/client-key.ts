/**
 * The key every IP-keyed limit counts a client by. One IPv6 subscriber is usually given a whole /64 (often more),
 * so counting per full IPv6 address would hand each of them 2^64 budgets: an IPv6 address is keyed by its /64
 * prefix. An IPv4 address, and an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack socket reports
 * for an IPv4 client), is keyed by the whole IPv4 address.
 *
 * No regular expression: node:net validates, and the parse below is a linear split of an already valid address.
 */
import { isIPv4, isIPv6 } from 'node:net'

/** The 8 16-bit groups of a valid IPv6 address (zone already removed). */
function groups (address: string): number[] {
  const halves = address.split('::')
  const parse = (half: string): number[] => {
    if (half === '') return []
    const out: number[] = []
    for (const part of half.split(':')) {
      if (part.includes('.')) {
        const [a, b, c, d] = part.split('.').map(Number)
        out.push((a << 8) | b, (c << 8) | d)
      } else {
        out.push(parseInt(part, 16))
      }
    }
    return out
  }
  const head = parse(halves[0])
  const tail = halves.length > 1 ? parse(halves[1]) : []
  const zeros = new Array<number>(8 - head.length - tail.length).fill(0)
  return [...head, ...zeros, ...tail]
}

/**
 * `198.51.100.7` → `198.51.100.7`; `::ffff:198.51.100.7` → `198.51.100.7`; `2001:db8:1:1::a` → `2001:db8:1:1::/64`.
 * Anything that is not an IP address (a test double, a Unix socket) is returned unchanged.
 */
export function clientKey (ip: string): string {
  if (isIPv4(ip)) return ip
  const zone = ip.indexOf('%')
  const address = zone >= 0 ? ip.slice(0, zone) : ip
  if (!isIPv6(address)) return ip
  const g = groups(address)
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `${g[6] >> 8}.${g[6] & 0xff}.${g[7] >> 8}.${g[7] & 0xff}`
  }
  return `${g.slice(0, 4).map(group => group.toString(16)).join(':')}::/64`
}
