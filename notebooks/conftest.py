"""nbval runs the course in quick mode: small data, few steps, minutes on two CPU cores.

Set here, before nbval starts any kernel, so every notebook's kernel inherits it. Generated data
goes to one temporary folder shared by the notebooks (the synthetic corpus is made once).
"""

import os
import tempfile

os.environ["DSLEARN_QUICK"] = "1"
os.environ.setdefault("DSLEARN_WORK", tempfile.mkdtemp(prefix="dslearn-course-"))
os.environ.setdefault("MPLBACKEND", "agg")
