from multiprocessing import Process, Queue
 
def foo(q): 
    val = q.get() 
    while val: 
        print(val) 
        val = q.get() 
 
if __name__ == '__main__': 
    q = Queue() 
    p = Process(target=foo, args=(q,)) 
    p.start() 
    for val in [1, '0', False, 1.1]: 
        q.put(val) 
    p.join()
