def f(i)
    return i
