import type { AffectedProduct } from './advisory';

export interface Component {
  product: string;
  version: string;
}

export interface AffectedComponent extends Component {
  /** The advisory's range the version fell in. */
  range: string;
  fixed: string[];
}

/** Product names compare trimmed and case-insensitively: suppliers and CMDBs spell them differently. */
export const sameProduct = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** Whether an advisory names any of these products at all (before versions are compared). */
export function namesAnyProduct(affected: readonly AffectedProduct[], products: readonly string[]): boolean {
  return affected.some((entry) => products.some((product) => sameProduct(entry.product, product)));
}
