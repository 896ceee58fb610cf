export interface Page<T> {
  next: string | null
  previous: string | null
  results: T[]
  /** Rows of the whole list, when asked for with `with_count=true` (cases, care plans). */
  count?: number
}

export type RoleName =
  | 'micro_grid_worker'
  | 'grid_worker'
  | 'grid_leader'
  | 'secretary'
  | 'street_dispatcher'
  | 'viewer'
  | 'admin'

export type GridLevel = 'district' | 'street' | 'community' | 'grid' | 'micro_grid' | 'dedicated'

export interface RoleGrant {
  grid: number
  grid_code: string
  grid_name: string
  grid_level: GridLevel
  role: RoleName
  /** The post's own name, e.g. 社区书记·总网格长. */
  title?: string
}

export interface DepartmentRef {
  id: number
  name: string
  is_head?: boolean
}

export type Home = 'mobile' | 'console' | 'department' | 'lead'

export interface Me {
  id: number
  username: string
  display_name: string
  roles: RoleGrant[]
  departments: DepartmentRef[]
  primary_role: RoleName | null
  home: Home
}

export interface Tag {
  code: string
  name: string
}
