// The permission check. The table itself (PERMISSIONS: which roles may do what; everything not
// listed is refused) is data shared with the dashboard: server/domain/roles.ts.
import { PERMISSIONS, type Permission, type Role } from '../domain/roles.ts';

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
