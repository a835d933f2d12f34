"""Retention enforced: due dates, holds and the plan of one rule, free of any store.

``calendar`` adds ISO 8601 periods to days (month ends clamped) and finds the end of a
financial year; ``due`` says when a record's period has run and which trigger days are
due today; ``holds`` says what keeps a record longer (a statutory hold, a hold placed
by staff) and which wins; ``trigger_time`` turns a day into the value the trigger
column is compared with; ``rule`` resolves a data-map rule into what a sweep needs.
"""
