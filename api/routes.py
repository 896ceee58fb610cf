"""Routes of the domain apps beyond the foundation (cases, visits, notifications, stats, intake)."""


def register(router):
    return router
