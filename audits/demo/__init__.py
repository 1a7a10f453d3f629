"""Demo data: the real 宿州市 tree with synthetic villages, officials and accounts.

`audits.demo.suzhou` holds the data, `audits.demo.build` the logic (`build_demo`).
"""
