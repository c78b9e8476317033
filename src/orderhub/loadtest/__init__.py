"""`orderhub loadtest`: drives a running OrderHub through the channel and WMS simulators with
Locust (used as a library) and judges the result against the merchant's targets.

Locust monkey-patches sockets for the whole process, so it runs in a process of its own
(`python -m orderhub.loadtest PLAN RESULT`, started by the command): `profiles`, `plan` and
`report` never import it; `users`, `runner` and `progress` do, and only that process imports them.
"""
