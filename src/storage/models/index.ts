/**
 * Every model, registered on one connection (the storage plugin's own, never mongoose's global one).
 * Later modules add their models here.
 */
import type { Connection } from 'mongoose'
import { userModel, type UserModel } from './user.model.js'
import { sessionModel, type SessionModel } from './session.model.js'

export interface Models {
  User: UserModel
  Session: SessionModel
}

export function registerModels (connection: Connection): Models {
  return {
    User: userModel(connection),
    Session: sessionModel(connection)
  }
}

/** Creates collections and indexes (unique keys must exist before the first write relies on them). */
export async function initModels (models: Models): Promise<void> {
  for (const model of Object.values(models)) await model.init()
}
