import { Schema, type Connection, type Model, type Types } from 'mongoose'

export const USER_ROLES = ['user', 'admin'] as const
export type UserRole = typeof USER_ROLES[number]

/** A stored account. A deleted account keeps its document (messages stay attributed) but loses its keys and PII. */
export interface UserDoc {
  _id: Types.ObjectId
  /** As the user typed it (case kept). A deleted account shows a placeholder. */
  username: string
  /**
   * Lowercased username: the unique key, so `Alice` and `alice` collide. Absent on deleted accounts, which frees
   * the name (the index is sparse).
   */
  usernameKey?: string
  email?: string
  /** Lowercased email: unique, absent on deleted accounts. */
  emailKey?: string
  /** argon2id PHC string; absent on deleted accounts. */
  passwordHash?: string
  firstName: string
  lastName: string
  /** Lowercased names for prefix search. */
  firstNameKey: string
  lastNameKey: string
  role: UserRole
  /** Set by an admin; a disabled account cannot log in. */
  disabled: boolean
  deletedAt?: Date
  lastSeenAt?: Date
  createdAt: Date
  updatedAt: Date
}

export type UserModel = Model<UserDoc>

const userSchema = new Schema<UserDoc>({
  username: { type: String, required: true },
  usernameKey: { type: String },
  email: { type: String },
  emailKey: { type: String },
  passwordHash: { type: String },
  firstName: { type: String, default: '' },
  lastName: { type: String, default: '' },
  firstNameKey: { type: String, default: '' },
  lastNameKey: { type: String, default: '' },
  role: { type: String, enum: USER_ROLES, default: 'user' },
  disabled: { type: Boolean, default: false },
  deletedAt: { type: Date },
  lastSeenAt: { type: Date }
}, { timestamps: true, versionKey: false })

// Uniqueness is the database's job (no check-then-insert race); sparse so deleted accounts free their keys.
userSchema.index({ usernameKey: 1 }, { unique: true, sparse: true })
userSchema.index({ emailKey: 1 }, { unique: true, sparse: true })
userSchema.index({ firstNameKey: 1 })
userSchema.index({ lastNameKey: 1 })

/** The User model on the given connection (registered once per connection). */
export function userModel (connection: Connection): UserModel {
  return (connection.models.User as UserModel | undefined) ?? connection.model<UserDoc>('User', userSchema, 'users')
}
