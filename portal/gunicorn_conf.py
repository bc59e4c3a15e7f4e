"""gunicorn's settings as deployed (Dockerfile, docker-compose.yml: ``-c python:portal.gunicorn_conf``).

The access log leaves out query strings and the Referer: an OpenID login's callback carries the
authorization ``code`` and ``state``, the device login's page the ``user_code``, and a log is no
place for them. It keeps who, when, the method, the path, the status, the size, the user agent
and the time taken.
"""

accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'
