# A starting gun: five runners wait on an Event; one set() releases them all at once
from multiprocessing import Event, Process, Queue
import time


def runner(n, ready, gun):
    ready.put(n)
    gun.wait()  # on the line until the gun fires
    print(f'runner {n} is off')


if __name__ == '__main__':
    ready, gun = Queue(), Event()
    runners = [Process(target=runner, args=(n, ready, gun), name=f'runner-{n}') for n in range(5)]
    for r in runners:
        r.start()
    for _ in runners:
        ready.get()  # every runner has reached the line
    time.sleep(0.5)  # "on your marks": long enough for each one to be inside wait()
    print('BANG')
    gun.set()
    for r in runners:
        r.join()
