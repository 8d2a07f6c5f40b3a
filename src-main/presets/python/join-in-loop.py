from multiprocessing import Process 
def foo(num): 
    print(num) 
 
if __name__ == '__main__': 
    mp = [] 
    for i in range(5): 
        p = Process(target=foo, args=(i,)) 
        mp.append(p)
        p.start() 
        
    for p in mp: 
        p.join() # 正确 
