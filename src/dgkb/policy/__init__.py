"""Policy decision point over the register (Cedar behind an AuthZEN-shaped interface)."""
