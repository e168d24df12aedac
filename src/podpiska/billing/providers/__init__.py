"""Online payment providers, one class each behind `base.BaseProvider` (SPEC §5).

`billing.online` picks the configured one and turns what a provider reports into
recorded payments; a provider only speaks to its payment service.
"""
