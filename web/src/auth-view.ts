/** Sign in and create an account: two forms; a new account is signed in at once. */
import { h, fill } from './dom.js'

export interface Credentials { login: string, password: string }

/** Shows the forms in `root`; `signIn` gets the credentials and throws with a message to show when refused. */
export function showAuth (root: HTMLElement, signIn: (credentials: Credentials) => Promise<void>, notice = ''): void {
  const alert = h('p', { class: 'alert', role: 'alert' }, notice)
  const busy = (form: HTMLFormElement, on: boolean): void => {
    for (const control of form.querySelectorAll('button, input')) (control as HTMLInputElement).disabled = on
  }
  const submit = (form: HTMLFormElement, run: (data: FormData) => Promise<void>) => async (event: Event): Promise<void> => {
    event.preventDefault()
    alert.textContent = ''
    const data = new FormData(form) // before disabling: disabled controls are not in a form's data
    busy(form, true)
    try {
      await run(data)
    } catch (error) {
      alert.textContent = error instanceof Error ? error.message : String(error)
      busy(form, false)
    }
  }

  const login = h('form', { class: 'card', 'aria-labelledby': 'login-title' },
    h('h2', { id: 'login-title' }, 'Sign in'),
    field('Username or email', 'login', 'text', 'username'),
    field('Password', 'password', 'password', 'current-password'),
    h('button', { type: 'submit' }, 'Sign in'))
  login.addEventListener('submit', submit(login, async data => {
    await signIn({ login: String(data.get('login')), password: String(data.get('password')) })
  }))

  const register = h('form', { class: 'card', 'aria-labelledby': 'register-title' },
    h('h2', { id: 'register-title' }, 'Create an account'),
    field('Username', 'username', 'text', 'username', { minlength: 3, maxlength: 32, pattern: '[A-Za-z0-9_.\\-]+' }),
    field('Email', 'email', 'email', 'email'),
    field('Password', 'password', 'password', 'new-password', { minlength: 8 }),
    field('First name (optional)', 'firstName', 'text', 'given-name', { required: false }),
    h('button', { type: 'submit' }, 'Create account'))
  register.addEventListener('submit', submit(register, async data => {
    const body: Record<string, string> = {}
    for (const name of ['username', 'email', 'password', 'firstName']) {
      const value = String(data.get(name) ?? '').trim()
      if (value !== '') body[name] = name === 'password' ? String(data.get(name)) : value
    }
    const response = await fetch('/api/auth/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (response.status !== 201) throw new Error(((await response.json().catch(() => ({}))) as { message?: string }).message ?? `registration failed (${response.status})`)
    await signIn({ login: body.username, password: body.password })
  }))

  fill(root, h('main', { class: 'auth' },
    h('h1', {}, 'Parley'),
    h('p', { class: 'tagline' }, 'Realtime chat: messages, files, receipts and presence.'),
    alert,
    h('div', { class: 'auth-forms' }, login, register)))
  ;(login.querySelector('input') as HTMLInputElement).focus()
}

function field (label: string, name: string, type: string, autocomplete: string, extra: Record<string, string | number | boolean> = {}): HTMLElement {
  const id = `${name}-${Math.random().toString(36).slice(2, 8)}`
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name, type, autocomplete, required: true, ...extra }))
}
