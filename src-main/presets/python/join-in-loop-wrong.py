from multiprocessing import Process 
def foo(num): 
    print(num) 
 
if __name__ == '__main__': 
    mp = [] 
    for i in range(5): 
        p = Process(target=foo, args=(i,)) 
        mp.append(p)
        p.start() 
        p.join() # 错误，会阻塞主进程进入下一次循环
