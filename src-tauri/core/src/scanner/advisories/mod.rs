//! Local advisory database imported from OSV records.
