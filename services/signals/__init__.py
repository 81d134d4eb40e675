"""Lists from other departments (医保, 残联, 卫健/公安, 人社): read, match by ID number, act on, raise alerts."""
