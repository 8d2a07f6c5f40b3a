# A parking lot with 3 spaces and 8 cars: a Semaphore(3) lets at most 3 processes in at once
from multiprocessing import Process, Semaphore
import time


def car(n, lot):
    print(f'car {n} arrives')
    with lot:  # waits here while all 3 spaces are taken
        print(f'car {n} parks')
        time.sleep(1 + 0.2 * (n % 3))
        print(f'car {n} leaves')


if __name__ == '__main__':
    lot = Semaphore(3)
    cars = [Process(target=car, args=(n, lot), name=f'car-{n}') for n in range(8)]
    for c in cars:
        c.start()
    for c in cars:
        c.join()
